"""The wizard's screens, one a file."""
