//! *Save report…*: one A4 page of a verification (what staff saw on the result screen and
//! the decision), with the kiosk's font embedded so every Vietnamese letter prints, and
//! the captures as thumbnails (their JPEG bytes as they are). Written only when staff ask
//! for it, where they choose.
//!
//! The page is laid out here from plain text the caller gives in the UI language; the
//! font is DejaVu Sans (the kiosk's), embedded whole as a CID font (Identity-H, glyph ids
//! from its `cmap`), with a ToUnicode map so the text can be searched and copied.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_NAME: &[u8] = b"DejaVuSans";
/// A4 in points.
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 40.0;

/// One row of the fields' table.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub value: String,
    pub score: String,
    pub card: String,
}

/// A capture shown on the page.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub caption: String,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// What the page says, already in the UI language.
#[derive(Debug, Clone, Default)]
pub struct PageText {
    pub title: String,
    /// Lines under the title: kiosk, time, verdict.
    pub header: Vec<String>,
    /// The table's column titles: field, value, score, card.
    pub columns: [String; 4],
    pub rows: Vec<Row>,
    /// Liveness, face match…: one line each.
    pub checks: Vec<String>,
    pub decision: Option<String>,
    pub thumbnails: Vec<Thumbnail>,
    /// The last line, small: where it came from.
    pub footer: String,
}

/// The font's glyphs: ids for characters, advances for widths.
struct Font<'a> {
    face: ttf_parser::Face<'a>,
    units: f32,
    /// Glyph id → (advance in 1/1000 em, the character it came from).
    used: BTreeMap<u16, (f32, char)>,
}

impl<'a> Font<'a> {
    fn new() -> Result<Self, String> {
        let face = ttf_parser::Face::parse(FONT, 0).map_err(|error| format!("font: {error}"))?;
        let units = f32::from(face.units_per_em());
        Ok(Self {
            face,
            units,
            used: BTreeMap::new(),
        })
    }

    fn glyph(&mut self, character: char) -> u16 {
        let id = self
            .face
            .glyph_index(character)
            .or_else(|| self.face.glyph_index('?'))
            .map_or(0, |glyph| glyph.0);
        let advance = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(id))
            .map_or(0.0, |advance| f32::from(advance) * 1000.0 / self.units);
        self.used.entry(id).or_insert((advance, character));
        id
    }

    /// The text as 2-byte glyph ids, and its width at `size` points.
    fn encode(&mut self, text: &str, size: f32) -> (Vec<u8>, f32) {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        let mut width = 0.0;
        for character in text.chars() {
            let id = self.glyph(character);
            bytes.extend_from_slice(&id.to_be_bytes());
            width += self.used[&id].0 * size / 1000.0;
        }
        (bytes, width)
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        self.encode(text, size).1
    }

    /// `text` cut into lines no wider than `width` (at spaces; a word longer than a line is
    /// cut where it must be).
    fn wrap(&mut self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_owned();
                }
                while self.width(&line, size) > width && line.chars().count() > 1 {
                    let mut head = String::new();
                    for character in line.chars() {
                        if self.width(&format!("{head}{character}"), size) > width {
                            break;
                        }
                        head.push(character);
                    }
                    if head.is_empty() {
                        break;
                    }
                    line = line[head.len()..].to_owned();
                    lines.push(head);
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Writes text and keeps the place on the page.
struct Writer<'a> {
    content: Content,
    font: Font<'a>,
    y: f32,
}

impl Writer<'_> {
    fn text_at(&mut self, text: &str, size: f32, x: f32, y: f32) {
        let (bytes, _) = self.font.encode(text, size);
        self.content.begin_text();
        self.content.set_font(Name(b"F1"), size);
        self.content.next_line(x, y);
        self.content.show(Str(&bytes));
        self.content.end_text();
    }

    /// A paragraph from the left margin to `right`, moving down.
    fn paragraph(&mut self, text: &str, size: f32, x: f32, right: f32) {
        for line in self.font.wrap(text, size, right - x) {
            self.y -= size * 1.35;
            self.text_at(&line, size, x, self.y);
        }
    }

    fn rule(&mut self, gap: f32) {
        self.y -= gap;
        self.content.set_line_width(0.5);
        self.content.move_to(MARGIN, self.y);
        self.content.line_to(PAGE.0 - MARGIN, self.y);
        self.content.stroke();
    }
}

/// The PDF file of `page`.
pub fn render(page: &PageText) -> Result<Vec<u8>, String> {
    let mut writer = Writer {
        content: Content::new(),
        font: Font::new()?,
        y: PAGE.1 - MARGIN,
    };
    let right = PAGE.0 - MARGIN;
    // Thumbnails along the top right, at most 3, 110 pt high.
    let thumb_height = 110.0;
    let mut thumb_x = right;
    let mut placed = Vec::new();
    for (index, thumbnail) in page.thumbnails.iter().take(3).enumerate().rev() {
        let width = thumb_height * thumbnail.width.max(1) as f32 / thumbnail.height.max(1) as f32;
        let width = width.min(150.0);
        thumb_x -= width;
        placed.push((index, thumb_x, width));
        thumb_x -= 8.0;
    }
    let text_right = if placed.is_empty() {
        right
    } else {
        thumb_x - 8.0
    };
    writer.y -= 4.0;
    writer.paragraph(&page.title, 18.0, MARGIN, text_right);
    writer.y -= 4.0;
    for line in &page.header {
        writer.paragraph(line, 10.0, MARGIN, text_right);
    }
    let image_top = PAGE.1 - MARGIN;
    for (index, x, width) in &placed {
        let name = format!("Im{index}");
        writer.content.save_state();
        writer
            .content
            .transform([*width, 0.0, 0.0, thumb_height, *x, image_top - thumb_height]);
        writer.content.x_object(Name(name.as_bytes()));
        writer.content.restore_state();
        let caption = page.thumbnails[*index].caption.clone();
        writer.text_at(&caption, 8.0, *x, image_top - thumb_height - 10.0);
    }
    writer.y = writer.y.min(image_top - thumb_height - 16.0);
    writer.rule(6.0);
    // The fields' table: label, value (wrapped), score, card.
    let columns = [MARGIN, MARGIN + 130.0, MARGIN + 385.0, MARGIN + 430.0];
    let size = 9.0;
    writer.y -= size * 1.4;
    for (column, title) in columns.iter().zip(&page.columns) {
        let y = writer.y;
        writer.text_at(title, size, *column, y);
    }
    for row in &page.rows {
        let value_lines = writer
            .font
            .wrap(&row.value, size, columns[2] - columns[1] - 8.0);
        let label_lines = writer
            .font
            .wrap(&row.label, size, columns[1] - columns[0] - 8.0);
        let card_lines = writer.font.wrap(&row.card, size, right - columns[3]);
        let top = writer.y - size * 1.5;
        for (offset, line) in label_lines.iter().enumerate() {
            writer.text_at(line, size, columns[0], top - offset as f32 * size * 1.3);
        }
        for (offset, line) in value_lines.iter().enumerate() {
            writer.text_at(line, size, columns[1], top - offset as f32 * size * 1.3);
        }
        writer.text_at(&row.score, size, columns[2], top);
        for (offset, line) in card_lines.iter().enumerate() {
            writer.text_at(line, size, columns[3], top - offset as f32 * size * 1.3);
        }
        let lines = value_lines
            .len()
            .max(label_lines.len())
            .max(card_lines.len());
        writer.y = top - (lines as f32 - 1.0) * size * 1.3 - 2.0;
    }
    writer.rule(8.0);
    for check in &page.checks {
        writer.paragraph(check, 10.0, MARGIN, right);
    }
    if let Some(decision) = &page.decision {
        writer.rule(8.0);
        writer.paragraph(decision, 12.0, MARGIN, right);
    }
    writer.text_at(&page.footer, 7.0, MARGIN, MARGIN - 14.0);
    finish(writer, page)
}

fn finish(writer: Writer, page: &PageText) -> Result<Vec<u8>, String> {
    let Writer { content, font, .. } = writer;
    let mut next = 1;
    let mut id = || {
        next += 1;
        Ref::new(next - 1)
    };
    let (catalog, pages, page_id, content_id) = (id(), id(), id(), id());
    let (type0, cid, descriptor, font_file, to_unicode) = (id(), id(), id(), id(), id());
    let images: Vec<Ref> = page.thumbnails.iter().take(3).map(|_| id()).collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page_id]).count(1);
    {
        let mut page_writer = pdf.page(page_id);
        page_writer
            .media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1))
            .parent(pages)
            .contents(content_id);
        let mut resources = page_writer.resources();
        resources.fonts().pair(Name(b"F1"), type0);
        let mut objects = resources.x_objects();
        for (index, image) in images.iter().enumerate() {
            objects.pair(Name(format!("Im{index}").as_bytes()), *image);
        }
    }
    let content = content.finish();
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&content, 6);
    pdf.stream(content_id, &compressed)
        .filter(Filter::FlateDecode);
    for (image, thumbnail) in images.iter().zip(&page.thumbnails) {
        let mut writer = pdf.image_xobject(*image, &thumbnail.jpeg);
        writer.filter(Filter::DctDecode);
        writer.width(thumbnail.width as i32);
        writer.height(thumbnail.height as i32);
        writer.color_space().device_rgb();
        writer.bits_per_component(8);
    }
    // The font.
    pdf.type0_font(type0)
        .base_font(Name(FONT_NAME))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(to_unicode);
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    {
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(Name(FONT_NAME))
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut widths = cid_font.widths();
        for (glyph, (advance, _)) in &font.used {
            widths.consecutive(*glyph, [*advance]);
        }
    }
    let scale = |value: i16| f32::from(value) * 1000.0 / font.units;
    let bbox = font.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(FONT_NAME))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(font.face.ascender()))
        .descent(scale(font.face.descender()))
        .cap_height(scale(
            font.face.capital_height().unwrap_or(font.face.ascender()),
        ))
        .stem_v(80.0)
        .font_file2(font_file);
    let font_bytes = miniz_oxide::deflate::compress_to_vec_zlib(FONT, 6);
    pdf.stream(font_file, &font_bytes)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), FONT.len() as i32);
    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system);
    for (glyph, (_, character)) in &font.used {
        cmap.pair(*glyph, *character);
    }
    pdf.cmap(to_unicode, &cmap.finish());
    Ok(pdf.finish())
}
