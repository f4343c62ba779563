"""Council-ready outputs: offline maps, print figures, tables and site profiles."""
