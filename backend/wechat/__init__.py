"""WeChat: sign-in through an official account's web authorisation, subscription messages, JS-SDK."""
