//! coroner
