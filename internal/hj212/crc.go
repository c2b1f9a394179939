package hj212

// CRC16 is the check of HJ 212-2017 (Annex A) over a frame's data segment: initial value
// 0xFFFF; for each byte the register's high byte is XORed with the byte and the result
// shifted right eight times, XORing 0xA001 (0x8005 reflected) whenever a 1 falls out. It is
// not the Modbus CRC (which XORs the byte into the low byte): the two disagree on every
// frame. HJ/T 212-2005 frames use the same check.
//
// (reg >> 8) ^ byte is below 256, so the eight shifts that follow depend on that one byte
// alone and are read from a table of their 256 outcomes.
func CRC16(data []byte) uint16 {
	reg := uint16(0xFFFF)
	for _, b := range data {
		reg = crcTable[byte(reg>>8)^b]
	}
	return reg
}

// crcTable[i] is eight shifts of the bitwise CRC16 register applied to i.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		reg := uint16(i)
		for range 8 {
			lsb := reg & 1
			reg >>= 1
			if lsb == 1 {
				reg ^= 0xA001
			}
		}
		t[i] = reg
	}
	return t
}()
