package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// parseByteSize reads a size such as 1048576, 512MiB, 2GiB or 64KiB. Only binary units are
// accepted: MB, 10^6 to some and 2^20 to others, is refused rather than guessed. The upper
// bound keeps n*mult from overflowing an int64.
func parseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	// "B" comes last: it is a suffix of every other unit.
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size: use a positive number of bytes, or one with KiB, MiB or GiB (e.g. 512MiB)", s)
	}
	return n * mult, nil
}
