// wc counts lines, words and bytes of its input, or of a built-in sample with -sample.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const version = "1.0.0"

const sample = "layers stack\nlike commits\nthe last one wins\n"

type counts struct{ lines, words, bytes int }

func count(r io.Reader) (counts, error) {
	var c counts
	br := bufio.NewReader(r)
	inWord := false
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.bytes++
		if b == '\n' {
			c.lines++
		}
		space := b == ' ' || b == '\n' || b == '\t' || b == '\r'
		if !space && !inWord {
			c.words++
		}
		inWord = !space
	}
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	useSample := flag.Bool("sample", false, "count the built-in sample text")
	flag.Parse()
	if *showVersion {
		fmt.Println("wc", version)
		return
	}
	var in io.Reader = os.Stdin
	if *useSample {
		in = strings.NewReader(sample)
	}
	c, err := count(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d %d %d\n", c.lines, c.words, c.bytes)
}
