package export

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
)

// The package parts of the workbook other than the sheet data (ECMA-376
// Part 1, SpreadsheetML): fixed text where nothing varies, built per file
// where the sheet name, row count or number formats do.

const xmlDecl = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

const xlsxContentTypes = xmlDecl +
	`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>` +
	`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
	`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
	`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
	`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
	`</Types>`

const xlsxPackageRels = xmlDecl +
	`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
	`</Relationships>`

const xlsxWorkbookRels = xmlDecl +
	`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
	`</Relationships>`

// xlsxCoreProps says who made the file (spreadsheet apps show it as the
// author).
const xlsxCoreProps = xmlDecl +
	`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
	`<dc:creator>stocktrail</dc:creator><cp:lastModifiedBy>stocktrail</cp:lastModifiedBy>` +
	`</cp:coreProperties>`

const spreadsheetNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

// workbookXML names the sheet and defines the autofilter's range, as Excel
// does (the hidden _xlnm._FilterDatabase name).
func (xw *xlsxWriter) workbookXML(lastCell string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl + `<workbook ` + spreadsheetNS + `><sheets><sheet name="`)
	escapeXML(&b, xw.sheet)
	b.WriteString(`" sheetId="1" r:id="rId1"/></sheets><definedNames>` +
		`<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'`)
	escapeXML(&b, strings.ReplaceAll(xw.sheet, "'", "''"))
	b.WriteString(`'!` + absoluteRange(lastCell) + `</definedName></definedNames></workbook>`)
	return b.Bytes()
}

// stylesXML holds the cell formats in the order of the style constants:
// general, header (bold on a light blue fill with a grey bottom border),
// date, integer, then one per decimal scale in the order they were used.
func (xw *xlsxWriter) stylesXML() []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	b.WriteString(`<numFmts count="` + strconv.Itoa(1+len(xw.scales)) + `">`)
	b.WriteString(`<numFmt numFmtId="` + strconv.Itoa(formatDate) + `" formatCode="` + xlsxDateFormat + `"/>`)
	for i, scale := range xw.scales {
		b.WriteString(`<numFmt numFmtId="` + strconv.Itoa(firstScaleFormat+i) + `" formatCode="0.` + strings.Repeat("0", scale) + `"/>`)
	}
	b.WriteString(`</numFmts>` +
		`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
		`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
		`<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>` +
		`<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills>` +
		`<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>` +
		`<border><left/><right/><top/><bottom style="thin"><color rgb="FF808080"/></bottom><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>`)
	b.WriteString(`<cellXfs count="` + strconv.Itoa(firstScaleStyle+len(xw.scales)) + `">` +
		`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>` +
		`<xf numFmtId="` + strconv.Itoa(formatDate) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="` + strconv.Itoa(formatInt) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`)
	for i := range xw.scales {
		b.WriteString(`<xf numFmtId="` + strconv.Itoa(firstScaleFormat+i) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`)
	}
	b.WriteString(`</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`)
	return b.Bytes()
}

// sheetHead is the worksheet up to the first data row: extent, the header
// row frozen above the data, column widths and the header row itself.
func (xw *xlsxWriter) sheetHead(lastCell string) []byte {
	b := []byte(xmlDecl + `<worksheet ` + spreadsheetNS + `><dimension ref="A1:` + lastCell + `"/>` +
		`<sheetViews><sheetView tabSelected="1" workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>` +
		`<sheetFormatPr defaultRowHeight="15"/><cols>`)
	for i, c := range xw.cols {
		n := strconv.Itoa(i + 1)
		b = append(b, `<col min="`+n+`" max="`+n+`" width="`...)
		b = strconv.AppendFloat(b, min(defaultWidth(c), maxColumnWidth), 'f', -1, 64)
		b = append(b, `" customWidth="1"/>`...)
	}
	b = append(b, `</cols><sheetData><row r="1">`...)
	for i, c := range xw.cols {
		b = append(b, `<c r="`...)
		b = append(b, xw.refs[i]...)
		b = append(b, `1" s="`+strconv.Itoa(styleHeader)+`"`...)
		if c.Title == "" {
			b = append(b, `/>`...)
			continue
		}
		b = append(b, ` t="inlineStr"><is>`...)
		b = appendXLSXText(b, c.Title)
		b = append(b, `</is></c>`...)
	}
	return append(b, `</row>`...)
}

// sheetTail closes the sheet data and puts the autofilter over every
// written row.
func (xw *xlsxWriter) sheetTail(lastCell string) []byte {
	return []byte(`</sheetData><autoFilter ref="` + absoluteRange(lastCell) + `"/></worksheet>`)
}

// absoluteRange is A1:lastCell with absolute references ($A$1:$H$4).
func absoluteRange(lastCell string) string {
	digits := strings.IndexAny(lastCell, "0123456789")
	return "$A$1:$" + lastCell[:digits] + "$" + lastCell[digits:]
}

func escapeXML(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}
