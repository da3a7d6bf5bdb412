//! Batch reprocessing: a manifest of shipments in, one result row per shipment out,
//! in manifest order, never stopping on one bad file.
