"""jugendhaus-mail: the team mailbox of a Jugendberufsagentur, turned into the request list."""

__version__ = "0.1.0"
