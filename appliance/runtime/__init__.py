"""Daemon runtime shared by appliance-telephonyd and appliance-powerd."""
