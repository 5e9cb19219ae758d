package main

// Wasm values between JSON and wazero's API: wazero takes and returns raw bits (uint64); the
// protocol carries numbers as the Python runtimes return them: integers signed and exact to 64
// bits, an f32 widened to a double, non-finite floats as "nan", "inf", "-inf".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// argument is a value a scenario states: a call's argument or a stated result. Its value is
// kept as the JSON text it came as, so no integer passes through a float64.
type argument struct {
	Type  *string         `json:"type"`
	Value json.RawMessage `json:"value"`
}

// wasmValue is a value a call returned, with the wasm type of the export's result.
type wasmValue struct {
	Type string
	Bits uint64
}

var numericTypes = map[string]bool{"i32": true, "i64": true, "f32": true, "f64": true}

func typeName(t api.ValueType) string {
	switch t {
	case api.ValueTypeI32:
		return "i32"
	case api.ValueTypeI64:
		return "i64"
	case api.ValueTypeF32:
		return "f32"
	case api.ValueTypeF64:
		return "f64"
	}
	return api.ValueTypeName(t)
}

// MarshalJSON writes {"type": ..., "value": ...} with the value decoded signed.
func (v wasmValue) MarshalJSON() ([]byte, error) {
	var text string
	switch v.Type {
	case "i32":
		text = strconv.FormatInt(int64(int32(uint32(v.Bits))), 10)
	case "i64":
		text = strconv.FormatInt(int64(v.Bits), 10)
	case "f32":
		text = floatJSON(float64(math.Float32frombits(uint32(v.Bits))))
	case "f64":
		text = floatJSON(math.Float64frombits(v.Bits))
	default:
		return nil, fmt.Errorf("a %s value cannot be sent", v.Type)
	}
	return []byte(`{"type":"` + v.Type + `","value":` + text + `}`), nil
}

// floatJSON is a float as Python's json.dumps writes it (repr: shortest digits, a ".0" on
// integral values, an exponent below 1e-4 and from 1e16), non-finite ones as strings.
func floatJSON(f float64) string {
	switch {
	case math.IsNaN(f):
		return `"nan"`
	case math.IsInf(f, 1):
		return `"inf"`
	case math.IsInf(f, -1):
		return `"-inf"`
	}
	return pythonRepr(f)
}

func pythonRepr(f float64) string {
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	fixed := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(fixed, ".") {
		fixed += ".0"
	}
	return fixed
}

// typeError is a value that does not fit the parameter it is given for (Python's TypeError).
type typeError struct{ reason string }

func (e *typeError) Error() string { return e.reason }

// encodeArg is a scenario's value as the bits wazero takes for a parameter of type t; the
// export's signature decides, as it does for the Python workers.
func encodeArg(t api.ValueType, raw json.RawMessage) (uint64, error) {
	switch t {
	case api.ValueTypeF32:
		f, err := parseFloat(raw)
		return uint64(math.Float32bits(float32(f))), err
	case api.ValueTypeF64:
		f, err := parseFloat(raw)
		return math.Float64bits(f), err
	case api.ValueTypeI32:
		return parseInt(raw, "i32", 32)
	case api.ValueTypeI64:
		return parseInt(raw, "i64", 64)
	}
	return 0, &typeError{fmt.Sprintf("a %s parameter cannot be given from JSON", typeName(t))}
}

func parseFloat(raw json.RawMessage) (float64, error) {
	var word string
	if json.Unmarshal(raw, &word) == nil {
		switch word {
		case "nan":
			return math.NaN(), nil
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		return 0, &typeError{fmt.Sprintf("a float needs a number, got %s", raw)}
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil && !isRangeError(err) {
		return 0, &typeError{fmt.Sprintf("a float needs a number, got %s", raw)}
	}
	return f, nil
}

func isRangeError(err error) bool {
	var num *strconv.NumError
	return errors.As(err, &num) && num.Err == strconv.ErrRange
}

// parseInt accepts an integer (or an integral float, as Python's int() does) that fits the
// type signed or unsigned, and returns its two's complement bits.
func parseInt(raw json.RawMessage, kind string, bits uint) (uint64, error) {
	n, ok := jsonInteger(raw)
	if !ok {
		return 0, &typeError{fmt.Sprintf("%s needs an integer, got %s", kind, raw)}
	}
	low := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
	high := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1))
	if n.Cmp(low) < 0 || n.Cmp(high) > 0 {
		return 0, &typeError{fmt.Sprintf("%s argument %s is out of range", kind, raw)}
	}
	if n.Sign() < 0 {
		n.Add(n, new(big.Int).Lsh(big.NewInt(1), bits))
	}
	return n.Uint64(), nil
}

// jsonInteger is a JSON number as an exact integer; false for a string or a fraction.
func jsonInteger(raw json.RawMessage) (*big.Int, bool) {
	text := string(bytes.TrimSpace(raw))
	if text == "" || text[0] == '"' {
		return nil, false
	}
	if !strings.ContainsAny(text, ".eE") {
		n, ok := new(big.Int).SetString(text, 10)
		return n, ok
	}
	f, _, err := big.ParseFloat(text, 10, 256, big.ToNearestEven)
	if err != nil || !f.IsInt() {
		return nil, false
	}
	n, _ := f.Int(nil)
	return n, true
}

// isFloatText: the JSON value is a float (a fraction, an exponent, or a non-finite word),
// which Python compares as a float.
func isFloatText(raw json.RawMessage) bool {
	text := strings.TrimSpace(string(raw))
	return strings.HasPrefix(text, `"`) || strings.ContainsAny(text, ".eE")
}
