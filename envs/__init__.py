"""Stackelberg economic-design environments (PettingZoo AEC and Gymnasium)."""
