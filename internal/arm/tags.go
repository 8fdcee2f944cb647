package arm

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ARM's limits on a resource's tags.
const (
	MaxTags           = 50
	MaxTagNameLength  = 512
	MaxTagValueLength = 256
)

// tagNameReserved are the characters ARM refuses in tag names (values may hold anything).
const tagNameReserved = `<>%&\?/`

// CheckTags applies ARM's rules to the tags of a resource, as ARM does before any resource
// provider sees them: at most MaxTags, names of 1 to MaxTagNameLength characters without
// reserved or control characters, values of at most MaxTagValueLength characters. Lengths
// count characters, not bytes. The first rule broken is the error, with ARM's code; names
// are listed sorted, so the message does not change between calls.
func CheckTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return BadRequest("InvalidTagCount", "The resource has %d tags; a resource can have at most %d. Remove some, or put several values in one tag (a JSON string, say).", len(tags), MaxTags).WithTarget("tags")
	}
	names := make([]string, 0, len(tags))
	for name := range tags {
		names = append(names, name)
	}
	slices.Sort(names)
	var reserved []string
	for _, name := range names {
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			return BadRequest("InvalidTagName", "A tag name is empty; give every tag a name.").WithTarget("tags")
		case n > MaxTagNameLength:
			return BadRequest("InvalidTagNameLength", "The tag name '%s…' is %d characters long; tag names can have at most %d.", truncate(name, 40), n, MaxTagNameLength).WithTarget("tags")
		}
		if strings.ContainsAny(name, tagNameReserved) || strings.ContainsFunc(name, unicode.IsControl) {
			reserved = append(reserved, name)
		}
	}
	// Tag names compare without case in Azure: two that differ only in case are one tag.
	for i := 1; i < len(names); i++ {
		for _, prev := range names[:i] {
			if strings.EqualFold(prev, names[i]) {
				return BadRequest("InvalidTagName", "The tag names '%s' and '%s' differ only in case, and tag names compare without case: keep one of them.", prev, names[i]).WithTarget("tags")
			}
		}
	}
	if len(reserved) > 0 {
		return BadRequest("InvalidTagNameCharacters", "The tag names '%s' have reserved characters '<,>,%%,&,\\,?,/' or control characters.", strings.Join(reserved, ",")).WithTarget("tags")
	}
	for _, name := range names {
		if n := utf8.RuneCountInString(tags[name]); n > MaxTagValueLength {
			return BadRequest("InvalidTagValueLength", "The value of tag '%s' is %d characters long; tag values can have at most %d.", name, n, MaxTagValueLength).WithTarget("tags")
		}
	}
	return nil
}

// truncate returns the first n characters of s.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
