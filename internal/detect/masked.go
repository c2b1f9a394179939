package detect

// Masked returns, per pixel of the grids, whether the change detector with parameters p
// leaves it out: no data, or cloud, cloud shadow or snow (as p.Mask decides) on either date,
// grown by p.CloudBuffer pixels. With before nil it masks after alone. The grids must share
// their size.
func Masked(before, after *Grid, p ChangeParams) []bool {
	if before == nil {
		before = after
	}
	p = p.withDefaults()
	ok := clearBoth(before, after, p)
	out := make([]bool, after.Width*after.Height)
	for i := range out {
		out[i] = !ok(i)
	}
	return out
}
