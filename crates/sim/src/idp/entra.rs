//! PLACEHOLDER — to be written by the provider's owner.
