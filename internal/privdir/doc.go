// Package privdir keeps jobsync's state private to the user it runs as: a
// directory mode 0700 and files 0600, whatever the umask, tightened when
// they already exist with wider modes. See docs/security.md, "State
// directory".
package privdir
