//! Serves a twinwire protocol over WebSocket (being built).
