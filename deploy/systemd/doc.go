// Package systemd holds the systemd unit and example environment file of a
// VM install of boxoffice (deploy/README.md), and the test that checks
// them: the unit parses, says what a node needs (User=boxoffice,
// EnvironmentFile, ExecStart of `boxoffice serve`, Restart=always because a
// node its peers declared dead exits on purpose, hardening), the env file
// names only real BOXOFFICE_* settings, and `systemd-analyze verify`, where
// the machine has it, accepts the unit without a warning. It has no Go code
// of its own.
package systemd
