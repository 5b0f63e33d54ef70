"""The console served at / (zh-CN by default, English switch)."""
