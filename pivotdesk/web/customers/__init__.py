"""Customer screens: the contact picker, the contact page, merging probable duplicate contacts."""
