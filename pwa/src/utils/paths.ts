/** Only our own paths (from pushes and live events): a message can never send the user elsewhere. */
export function safePath(url: string | undefined | null): string {
  return url && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : '/'
}
