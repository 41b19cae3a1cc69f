"""Tables and the rules that keep them true. No message text lives here."""
