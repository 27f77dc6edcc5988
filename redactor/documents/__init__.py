"""Identity documents and labelled fields: MRZ zones, the label lexicon, field pairing,
document extents and document mode (the fail-closed pass over a document's extent)."""
