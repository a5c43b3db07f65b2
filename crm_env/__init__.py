"""The Gymnasium CRM environment."""
