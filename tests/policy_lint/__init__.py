"""Every permission policy the provider's templates render, linted against the
AWS Service Authorization Reference by an independent linter (ol-parliament),
over a matrix of template options; the seed's own documents set the baseline."""
