"""Favourites (收藏): institutions an account keeps for later, per account, shown offline by the PWA."""
