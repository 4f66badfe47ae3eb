// The umbrella module: `import Strata` is all an application needs.
@_exported import Engine
