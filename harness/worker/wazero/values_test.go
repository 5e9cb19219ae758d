package main

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

func TestEncodeArgKeepsIntegersExactAndWrapsUnsignedInput(t *testing.T) {
	cases := []struct {
		kind api.ValueType
		text string
		want uint64
	}{
		{api.ValueTypeI32, "-2147483648", 0x80000000},
		{api.ValueTypeI32, "4294967295", 0xFFFFFFFF},
		{api.ValueTypeI32, "-1", 0xFFFFFFFF},
		{api.ValueTypeI32, "2.0", 2}, // an integral float, as Python's int() takes it
		{api.ValueTypeI64, "9007199254740993", 9007199254740993},
		{api.ValueTypeI64, "-9223372036854775808", 1 << 63},
		{api.ValueTypeI64, "18446744073709551615", math.MaxUint64},
		{api.ValueTypeF64, "0.1", math.Float64bits(0.1)},
		{api.ValueTypeF64, `"-inf"`, math.Float64bits(math.Inf(-1))},
		{api.ValueTypeF32, "0.1", uint64(math.Float32bits(0.1))},
		{api.ValueTypeF32, `"inf"`, uint64(math.Float32bits(float32(math.Inf(1))))},
	}
	for _, c := range cases {
		got, err := encodeArg(c.kind, json.RawMessage(c.text))
		if err != nil || got != c.want {
			t.Errorf("encodeArg(%s, %s) = %#x, %v; want %#x", typeName(c.kind), c.text, got, err, c.want)
		}
	}
}

func TestEncodeArgRefusesWhatDoesNotFit(t *testing.T) {
	cases := []struct {
		kind api.ValueType
		text string
	}{
		{api.ValueTypeI32, "4294967296"},
		{api.ValueTypeI32, "-2147483649"},
		{api.ValueTypeI32, "1.5"},
		{api.ValueTypeI32, `"nan"`},
		{api.ValueTypeI64, "18446744073709551616"},
		{api.ValueTypeF64, `"NaN"`},
	}
	for _, c := range cases {
		if _, err := encodeArg(c.kind, json.RawMessage(c.text)); err == nil {
			t.Errorf("encodeArg(%s, %s) accepted it", typeName(c.kind), c.text)
		} else if classify(err).Type != "TypeError" {
			t.Errorf("encodeArg(%s, %s): %T, want a TypeError", typeName(c.kind), c.text, err)
		}
	}
}

func TestEncodeArgNaNStaysNaN(t *testing.T) {
	bits, err := encodeArg(api.ValueTypeF64, json.RawMessage(`"nan"`))
	if err != nil || !math.IsNaN(math.Float64frombits(bits)) {
		t.Fatalf("nan: %#x, %v", bits, err)
	}
}

func TestValuesAreSentSignedWithF32WidenedAndNonFiniteAsWords(t *testing.T) {
	cases := []struct {
		value wasmValue
		want  string
	}{
		{wasmValue{"i32", 0xFFFFFFFF}, `{"type":"i32","value":-1}`},
		{wasmValue{"i32", 0x80000000}, `{"type":"i32","value":-2147483648}`},
		{wasmValue{"i64", math.MaxUint64}, `{"type":"i64","value":-1}`},
		{wasmValue{"i64", 1<<63 - 1}, `{"type":"i64","value":9223372036854775807}`},
		{wasmValue{"i64", 9007199254740993}, `{"type":"i64","value":9007199254740993}`},
		{wasmValue{"f32", uint64(math.Float32bits(0.1))}, `{"type":"f32","value":0.10000000149011612}`},
		{wasmValue{"f32", uint64(math.Float32bits(float32(math.NaN())))}, `{"type":"f32","value":"nan"}`},
		{wasmValue{"f64", math.Float64bits(math.Inf(-1))}, `{"type":"f64","value":"-inf"}`},
		{wasmValue{"f64", math.Float64bits(3)}, `{"type":"f64","value":3.0}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.value)
		if err != nil || string(got) != c.want {
			t.Errorf("%+v: %s, %v; want %s", c.value, got, err, c.want)
		}
	}
}

func TestFloatsAreWrittenAsPythonWritesThem(t *testing.T) {
	cases := map[float64]string{
		0.1:                 "0.1",
		3:                   "3.0",
		-0.0:                "0.0",
		1e16:                "1e+16",
		1e15:                "1000000000000000.0",
		1e-5:                "1e-05",
		0.0001:              "0.0001",
		1.5e300:             "1.5e+300",
		123456.789:          "123456.789",
		0.10000000149011612: "0.10000000149011612",
	}
	for value, want := range cases {
		if got := pythonRepr(value); got != want {
			t.Errorf("pythonRepr(%v) = %s, want %s", value, got, want)
		}
	}
	if got := pythonRepr(math.Copysign(0, -1)); got != "-0.0" {
		t.Errorf("negative zero: %s", got)
	}
}
