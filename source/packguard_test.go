package source

import "testing"

func TestDeltaHeadTargetSize(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want int64
	}{
		{name: "one-byte sizes", head: []byte{0x05, 0x07, 0x90}, want: 7},
		{name: "multi-byte result", head: []byte{0x05, 0x80, 0x80, 0x80, 0x80, 0x01}, want: 1 << 28},
		{name: "cut short", head: []byte{0x85}, want: -1},
		{name: "empty", want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d deltaHead
			_, _ = d.Write(tt.head)
			if got := d.targetSize(); got != tt.want {
				t.Fatalf("targetSize = %d, want %d", got, tt.want)
			}
		})
	}
}
