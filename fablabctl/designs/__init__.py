"""Designs: uploads stored once by content hash, validated once per content, owned by their uploader."""
