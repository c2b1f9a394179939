package casefile

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// fontFamily is the name the CJK font is registered under in the PDF.
const fontFamily = "cjk"

// PDF writes the case file as an A4 PDF with the CJK font embedded (subset).
func (r *Renderer) PDF(w io.Writer, c *Case) error {
	font, err := r.loadFont()
	if err != nil {
		return err
	}
	l := c.labels()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(c.GeneratedAt)
	pdf.SetModificationDate(c.GeneratedAt)
	pdf.SetTitle(c.Title(), true)
	pdf.SetAuthor(c.GeneratedBy, true)
	pdf.SetSubject(c.Enterprise.Name+" "+c.Enterprise.USCC, true)
	pdf.SetCreator("Offsite", true)
	pdf.AddUTF8FontFromBytes(fontFamily, "", font)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("casefile: pdf font: %w", err)
	}
	pdf.SetMargins(18, 16, 18)
	pdf.SetAutoPageBreak(true, 16)
	title := c.Title()
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont(fontFamily, "", 8)
		pdf.SetTextColor(100, 100, 100)
		pdf.CellFormat(0, 5, title+"  "+c.Enterprise.USCC+"  "+fmt.Sprintf(l.page, pdf.PageNo()), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	pw, _ := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	tw := pw - left - right
	imgN := 0
	for _, b := range c.blocks() {
		switch b.kind {
		case bHeading:
			size := map[int]float64{1: 17, 2: 13.5, 3: 11}[b.level]
			pdf.Ln(map[int]float64{1: 0, 2: 4, 3: 2}[b.level])
			if pdf.GetY() > 250 && b.level > 1 { // keep a heading with what follows
				pdf.AddPage()
			}
			pdf.SetFont(fontFamily, "", size)
			pdf.MultiCell(tw, size*0.5, b.text, "", "L", false)
			if b.level == 2 {
				y := pdf.GetY()
				pdf.SetDrawColor(120, 120, 120)
				pdf.Line(left, y+0.5, left+tw, y+0.5)
				pdf.SetDrawColor(0, 0, 0)
			}
			pdf.Ln(2)
		case bPara:
			size := 10.0
			if b.small {
				size = 8.5
			}
			pdf.SetFont(fontFamily, "", size)
			pdf.MultiCell(tw, size*0.5, b.text, "", "L", false)
			pdf.Ln(1.5)
		case bTable:
			pdfTable(pdf, tw, b)
			pdf.Ln(2)
		case bImages:
			if err := pdfImages(pdf, tw, left, b.images, &imgN); err != nil {
				return err
			}
		}
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("casefile: pdf: %w", err)
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("casefile: pdf: %w", err)
	}
	return nil
}

// pdfTable draws a table whose cells wrap; a row that does not fit goes to the next page.
func pdfTable(pdf *fpdf.Fpdf, tw float64, b block) {
	const size, lh = 8.5, 4.2
	pdf.SetFont(fontFamily, "", size)
	rows := b.rows
	if b.header != nil {
		rows = append([][]string{b.header}, rows...)
	}
	_, ph := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	left, _, _, _ := pdf.GetMargins()
	for i, row := range rows {
		head := b.header != nil && i == 0
		lines := make([][]string, len(row))
		n := 1
		for j, cell := range row {
			cw := b.widths[j]*tw - 4 // the cell's 1 mm inset and fpdf's cell margins
			lines[j] = splitCell(pdf, cell, cw)
			n = max(n, len(lines[j]))
		}
		h := float64(n)*lh + 1.6
		if pdf.GetY()+h > ph-bottom {
			pdf.AddPage()
		}
		x, y := left, pdf.GetY()
		for j := range row {
			cw := b.widths[j] * tw
			fill := head || (b.header == nil && j == 0)
			if fill {
				pdf.SetFillColor(232, 236, 242)
			}
			style := "D"
			if fill {
				style = "FD"
			}
			pdf.SetDrawColor(170, 170, 170)
			pdf.Rect(x, y, cw, h, style)
			for k, ln := range lines[j] {
				pdf.SetXY(x+1, y+0.8+float64(k)*lh)
				pdf.CellFormat(cw-2, lh, ln, "", 0, "L", false, 0, "")
			}
			x += cw
		}
		pdf.SetXY(left, y+h)
	}
	pdf.SetDrawColor(0, 0, 0)
}

// splitCell wraps text to width w: at spaces where it can, anywhere in long words (hashes,
// keys) and in CJK text.
func splitCell(pdf *fpdf.Fpdf, text string, w float64) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		var line []rune
		lastSpace := -1
		for _, r := range para {
			line = append(line, r)
			if r == ' ' {
				lastSpace = len(line) - 1
			}
			if pdf.GetStringWidth(string(line)) > w && len(line) > 1 {
				if lastSpace > 0 {
					out = append(out, string(line[:lastSpace]))
					line = append([]rune{}, line[lastSpace+1:]...)
				} else {
					out = append(out, string(line[:len(line)-1]))
					line = []rune{r}
				}
				lastSpace = -1
				for k, x := range line {
					if x == ' ' {
						lastSpace = k
					}
				}
			}
		}
		out = append(out, string(line))
	}
	return out
}

// pdfImages places figures side by side with their captions below.
func pdfImages(pdf *fpdf.Fpdf, tw, left float64, figs []figure, n *int) error {
	_, ph := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	type placed struct {
		name string
		w, h float64
	}
	var ps []placed
	maxH := 0.0
	for _, f := range figs {
		cfg, err := png.DecodeConfig(bytes.NewReader(f.png))
		if err != nil {
			return fmt.Errorf("casefile: pdf image: %w", err)
		}
		*n++
		name := fmt.Sprintf("img%d", *n)
		pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(f.png))
		w := f.width * tw
		h := w * float64(cfg.Height) / float64(cfg.Width)
		if h > 150 {
			w, h = w*150/h, 150
		}
		ps = append(ps, placed{name, w, h})
		maxH = max(maxH, h)
	}
	if pdf.GetY()+maxH+12 > ph-bottom {
		pdf.AddPage()
	}
	y := pdf.GetY()
	x := left
	gap := 4.0
	pdf.SetFont(fontFamily, "", 8)
	capY := y + maxH + 1
	lowest := capY
	for i, p := range ps {
		pdf.ImageOptions(p.name, x, y, p.w, p.h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		pdf.SetXY(x, capY)
		pdf.MultiCell(p.w, 3.8, figs[i].caption, "", "L", false)
		lowest = max(lowest, pdf.GetY())
		x += p.w + gap
	}
	pdf.SetXY(left, lowest+2)
	return nil
}
