package audit

import "github.com/firewarden/firewarden/source/auditd"

func newLiveForFuzz() *auditd.Live { return auditd.NewLive("fuzz") }
