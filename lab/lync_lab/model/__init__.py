"""The lab's state model: store, scenario, stages, servers, audit."""
