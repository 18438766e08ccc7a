"""Hong Kong groups figures in thousands with commas (1,234,567); Django's zh_Hant leaves them ungrouped."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
