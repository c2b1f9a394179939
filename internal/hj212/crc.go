package hj212

// CRC16 is the check of HJ 212-2017 (Annex A) over a frame's data segment: initial value
// 0xFFFF; for each byte the register's high byte is XORed with the byte and the result
// shifted right eight times, XORing 0xA001 (0x8005 reflected) whenever a 1 falls out. It is
// not the Modbus CRC (which XORs the byte into the low byte): the two disagree on every
// frame. HJ/T 212-2005 frames use the same check.
func CRC16(data []byte) uint16 {
	reg := uint16(0xFFFF)
	for _, b := range data {
		reg = (reg >> 8) ^ uint16(b)
		for range 8 {
			lsb := reg & 1
			reg >>= 1
			if lsb == 1 {
				reg ^= 0xA001
			}
		}
	}
	return reg
}
