package bufpool

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/internal/race"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClasses(t *testing.T) {
	p := New(256)
	for _, tt := range []struct{ n, capacity int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {4096, 4096}, {4097, 8192},
		{MaxSize, MaxSize}, {MaxSize + 1, MaxSize + 1},
	} {
		bp := p.Get(tt.n)
		if len(*bp) != tt.n || cap(*bp) != tt.capacity || p.ClassSize(tt.n) != tt.capacity {
			t.Errorf("Get(%d): len %d cap %d, ClassSize %d; want len %d cap %d",
				tt.n, len(*bp), cap(*bp), p.ClassSize(tt.n), tt.n, tt.capacity)
		}
		p.Put(bp)
	}
	if got := New(3000).ClassSize(1); got != 4096 {
		t.Errorf("New(3000) smallest class %d, want 4096", got)
	}
}

func TestZeroAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under -race")
	}
	p := New(256)
	p.Put(p.Get(700))
	if n := testing.AllocsPerRun(100, func() { p.Put(p.Get(700)) }); n != 0 {
		t.Errorf("%v allocs per Get/Put, want 0", n)
	}
	big := p.Get(MaxSize + 1)
	p.Put(big) // dropped, not pooled
	if bp := p.Get(MaxSize + 1); bp == big {
		t.Error("a buffer above MaxSize came back from the pool")
	}
}
