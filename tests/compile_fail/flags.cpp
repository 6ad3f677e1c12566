// Never compiled: the target it belongs to only carries liftoff::liftoff's flags.
