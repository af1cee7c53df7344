//! PLACEHOLDER — to be written by the Salesforce owner.
