"""The model: what every layer speaks. The template as data (template.toml: labels, codes, sums,
rules) and its typed models, the datasets' schemas, the format-blind blocks extractors produce,
findings, Chinese numerals, and the settings (the one reader of the environment). Imports nothing
else of nianbao."""
