"""Telephony: Asterisk AMI events -> call records and agent states; an AMI simulator."""
