package gittest

// SetBasicAuth replaces the username and password the server accepts, from
// the next request on, as a server whose credentials are rotated or revoked
// does: clients still sending the old ones get 401.
func (s *HTTPServer) SetBasicAuth(username, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Username, s.opts.Password = username, password
}
