"""The demo plant and the commands that run Batchline: `batchline demo`, `serve`, `createuser`."""
