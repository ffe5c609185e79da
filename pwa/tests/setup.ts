// IndexedDB for the offline cache and the complaint queue, in memory (jsdom has none).
import 'fake-indexeddb/auto'
