"""Keeping patients' personal details out of what is stored and logged."""
