package embedded

import (
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Jobs and Pods are most of the store once CronJobs have a history (10,000
// every-minute CronJobs keep 30,000 to 40,000 of each), so they are stored
// compressed: the byte valueCompressed, a codec id, then a zstd frame of
// the object's usual encoding, made with the codec's dictionary. No
// protobuf message (field 0 does not exist) or JSON text starts with a zero
// byte, so every value says how it is stored, and values of earlier
// versions (never compressed) are read as they are.
const valueCompressed = 0x00

// Codec ids. A dictionary, once released, never changes (values written
// with it need the same bytes to be read): a better one is a new file and
// a new id, and the old ones stay.
const (
	codecJobV1 = 0x01
	codecPodV1 = 0x02
)

// The dictionaries are what the controllers store for a generic CronJob's
// finished Jobs and their pods (see TestWriteDictionaries): the field
// layout, label and annotation keys, condition reasons and messages.
var (
	//go:embed dict/job-v1.bin
	jobDictV1 []byte
	//go:embed dict/pod-v1.bin
	podDictV1 []byte
)

// maxValueSize bounds a decompressed value: a damaged file must not make a
// read allocate without limit.
const maxValueSize = 64 << 20

// codecWindow is how far back the encoder refers.
const codecWindow = 64 << 10

// codec compresses values with one dictionary. zstd's fastest level: a
// Job in ~7 µs (DEFLATE with a dictionary: ~25 µs, most of it resetting its
// tables for every value) to a few bytes more. Encoder and decoder are safe
// for concurrent use; they are built on first use.
type codec struct {
	id   byte
	dict []byte

	once sync.Once
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	err  error
}

func newCodec(id byte, dict []byte) *codec { return &codec{id: id, dict: dict} }

// init builds the encoder and decoder once.
func (c *codec) init() (*zstd.Encoder, *zstd.Decoder, error) {
	c.once.Do(func() {
		c.enc, c.err = zstd.NewWriter(nil, zstd.WithEncoderDictRaw(uint32(c.id), c.dict), zstd.WithEncoderLevel(zstd.SpeedFastest),
			// Values are kilobytes: a small window keeps the encoder's
			// history buffer at ~130 KB (8 MB by default).
			zstd.WithWindowSize(codecWindow), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if c.err == nil {
			c.dec, c.err = zstd.NewReader(nil, zstd.WithDecoderDictRaw(uint32(c.id), c.dict), zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(maxValueSize), zstd.WithDecoderMaxWindow(maxValueSize))
		}
		if c.err != nil {
			c.err = fmt.Errorf("zstd codec %d: %w", c.id, c.err)
		}
	})
	return c.enc, c.dec, c.err
}

var codecs = map[byte]*codec{
	codecJobV1: newCodec(codecJobV1, jobDictV1),
	codecPodV1: newCodec(codecPodV1, podDictV1),
}

// codecOf returns the codec to store obj with, nil to store it as it is.
func codecOf(obj any) *codec {
	switch obj.(type) {
	case *batchv1.Job:
		return codecs[codecJobV1]
	case *corev1.Pod:
		return codecs[codecPodV1]
	}
	return nil
}

// compress returns the stored form of the encoded value.
func (c *codec) compress(raw []byte) ([]byte, error) {
	enc, _, err := c.init()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 2, 2+len(raw)/3)
	out[0], out[1] = valueCompressed, c.id
	return enc.EncodeAll(raw, out), nil
}

var errCorruptValue = errors.New("damaged compressed value")

// decompressed returns the encoded value of a stored one: data itself
// unless it is compressed.
func decompressed(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != valueCompressed {
		return data, nil
	}
	if len(data) < 2 {
		return nil, errCorruptValue
	}
	c := codecs[data[1]]
	if c == nil {
		return nil, fmt.Errorf("compressed with codec %d, unknown to this jobsync: use a newer jobsync", data[1])
	}
	_, dec, err := c.init()
	if err != nil {
		return nil, err
	}
	out, err := dec.DecodeAll(data[2:], make([]byte, 0, 4*len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptValue, err)
	}
	if len(out) == 0 {
		// No frame (a value cut after its header): Jobs and Pods are never
		// empty, and an empty object must not pass for one.
		return nil, errCorruptValue
	}
	return out, nil
}
