package monitoring

import (
	"sort"
	"strings"
)

// Pollutant is an entry of the one vocabulary that the factor codes of both HJ 212 versions
// map to.
type Pollutant struct {
	ID     string `json:"id"`
	Name   string `json:"name"` // as the standards name it
	Unit   string `json:"unit"`
	Medium Medium `json:"medium"`
	// Limitable is false for reference parameters (oxygen, flow, temperature), which permits
	// do not limit.
	Limitable bool `json:"limitable"`
}

// Pollutant ids of the reference parameters the rules use.
const (
	O2        = "o2"
	FlowGas   = "flow_gas"
	FlowWater = "flow_water"
)

// Pollutants is the vocabulary by id.
var Pollutants = map[string]Pollutant{
	"dust":         {"dust", "烟尘 (颗粒物) particulate matter", "mg/m3", Gas, true},
	"so2":          {"so2", "二氧化硫 SO2", "mg/m3", Gas, true},
	"nox":          {"nox", "氮氧化物 NOx (as NO2)", "mg/m3", Gas, true},
	"co":           {"co", "一氧化碳 CO", "mg/m3", Gas, true},
	"hcl":          {"hcl", "氯化氢 HCl", "mg/m3", Gas, true},
	"nmhc":         {"nmhc", "非甲烷总烃 NMHC", "mg/m3", Gas, true},
	O2:             {O2, "氧含量 O2", "%", Gas, false},
	FlowGas:        {FlowGas, "废气流量 flue gas flow", "m3/h", Gas, false},
	"gas_speed":    {"gas_speed", "烟气流速 flue gas velocity", "m/s", Gas, false},
	"gas_temp":     {"gas_temp", "烟气温度 flue gas temperature", "℃", Gas, false},
	"gas_humid":    {"gas_humid", "烟气湿度 flue gas humidity", "%", Gas, false},
	"cod":          {"cod", "化学需氧量 COD", "mg/L", Water, true},
	"nh3n":         {"nh3n", "氨氮 NH3-N", "mg/L", Water, true},
	"tp":           {"tp", "总磷 TP", "mg/L", Water, true},
	"tn":           {"tn", "总氮 TN", "mg/L", Water, true},
	"ph":           {"ph", "pH 值", "", Water, true},
	FlowWater:      {FlowWater, "污水流量 waste water flow", "m3/h", Water, false},
	"water_temp":   {"water_temp", "水温 water temperature", "℃", Water, false},
	"gas_pressure": {"gas_pressure", "烟气压力 flue gas pressure", "kPa", Gas, false},
}

// Factor maps an HJ 212 factor code to a pollutant. Scale converts the value as sent to the
// pollutant's unit (flows: m3/s and L/s to m3/h).
type Factor struct {
	Code      string  `json:"code"`
	Version   string  `json:"version"` // "2017" or "2005"
	Pollutant string  `json:"pollutant"`
	Scale     float64 `json:"scale"`
}

// Factors maps the factor codes of HJ 212-2017 (appendix B, codes a... for gas and w... for
// water) and HJ/T 212-2005 (appendix, numeric codes with B/S prefixes) to the vocabulary. Keys
// are case-insensitive (Factor lower-cases them).
var Factors = map[string]Factor{
	// HJ 212-2017, flue gas.
	"a34013": {"a34013", "2017", "dust", 1},
	"a21026": {"a21026", "2017", "so2", 1},
	"a21002": {"a21002", "2017", "nox", 1},
	"a21005": {"a21005", "2017", "co", 1},
	"a21024": {"a21024", "2017", "hcl", 1},
	"a24088": {"a24088", "2017", "nmhc", 1},
	"a19001": {"a19001", "2017", O2, 1},
	"a00000": {"a00000", "2017", FlowGas, 3600}, // 废气, m3/s
	"a01011": {"a01011", "2017", "gas_speed", 1},
	"a01012": {"a01012", "2017", "gas_temp", 1},
	"a01013": {"a01013", "2017", "gas_pressure", 1},
	"a01014": {"a01014", "2017", "gas_humid", 1},
	// HJ 212-2017, water.
	"w01018": {"w01018", "2017", "cod", 1},
	"w21003": {"w21003", "2017", "nh3n", 1},
	"w21011": {"w21011", "2017", "tp", 1},
	"w21001": {"w21001", "2017", "tn", 1},
	"w01001": {"w01001", "2017", "ph", 1},
	"w01010": {"w01010", "2017", "water_temp", 1},
	"w00000": {"w00000", "2017", FlowWater, 3.6}, // 废水, L/s
	// HJ/T 212-2005, flue gas.
	"01":  {"01", "2005", "dust", 1},
	"02":  {"02", "2005", "so2", 1},
	"03":  {"03", "2005", "nox", 1},
	"04":  {"04", "2005", "co", 1},
	"s01": {"S01", "2005", O2, 1},
	"s02": {"S02", "2005", "gas_speed", 1},
	"s03": {"S03", "2005", "gas_temp", 1},
	"s05": {"S05", "2005", "gas_humid", 1},
	"b02": {"B02", "2005", FlowGas, 1}, // 废气, m3/h
	// HJ/T 212-2005, water.
	"011": {"011", "2005", "cod", 1},
	"060": {"060", "2005", "nh3n", 1},
	"101": {"101", "2005", "tp", 1},
	"065": {"065", "2005", "tn", 1},
	"001": {"001", "2005", "ph", 1},
	"b01": {"B01", "2005", FlowWater, 1}, // 污水, m3/h
}

// LookupFactor returns the factor of a code as sent, either version, any case.
func LookupFactor(code string) (Factor, bool) {
	f, ok := Factors[strings.ToLower(code)]
	return f, ok
}

// PollutantIDs lists the vocabulary's ids, sorted.
func PollutantIDs() []string {
	ids := make([]string, 0, len(Pollutants))
	for id := range Pollutants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// CodesOf lists the factor codes of a pollutant, both versions, as sent.
func CodesOf(pollutant string) []string {
	var out []string
	for _, f := range Factors {
		if f.Pollutant == pollutant {
			out = append(out, f.Code)
		}
	}
	sort.Strings(out)
	return out
}
