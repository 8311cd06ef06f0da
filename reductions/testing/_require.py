"""The one message for a missing ``testing`` extra (hypothesis, pytest)."""

TESTING_EXTRA = ("reductions.testing needs hypothesis (and pytest for its plugin), which the core package does not "
                 "install: pip install 'bounded-entries[testing]'")
