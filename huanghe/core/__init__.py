"""The bottom of the house: one clock, one registry type, one error hierarchy, one page schema. Pure."""
