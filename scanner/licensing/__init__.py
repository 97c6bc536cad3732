"""The AI-license knowledge base, license identification and expressions."""
