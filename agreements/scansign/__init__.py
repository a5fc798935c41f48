"""扫码签约: online signing with a unit that has no account on the platform."""
