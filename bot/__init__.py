"""clusterbot: one messaging engine for cluster initiatives over SMS, Telegram and a simulator."""
