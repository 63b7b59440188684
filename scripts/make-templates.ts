/**
 * Writes the departments' official e-form templates (样表) under rules/templates/ as AcroForm PDFs, the way a
 * department would hand them over: printed labels and grid in the page content, one named text field per blank and
 * one signature field where the applicant seals. Run `npx tsx scripts/make-templates.ts` after changing a layout;
 * the PDFs are committed (a matter's YAML maps their field names), and the output is deterministic.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFHexString, PDFName, PDFNumber, type PDFPage } from 'pdf-lib';
import { loadFont } from '../src/documents/fonts.js';
import { Canvas, DocumentFont, A4, type Rgb } from '../src/documents/pdf/pdf-writer.js';
import { embedDocumentFont, stampCanvas } from '../src/documents/pdf/template-form.js';

interface Cell {
  label: string;
  field: string;
  multiline?: boolean;
}
interface Row {
  cells: Cell[];
  height?: number;
}
interface TemplateSpec {
  file: string;
  title: string;
  issuer: string;
  rows: Row[];
  signatureField: string;
  notes: string[];
}

const GREY: Rgb = [0.3, 0.3, 0.3];
const BLACK: Rgb = [0, 0, 0];
const LEFT = 50;
const WIDTH = A4[0] - 2 * LEFT;
const LABEL_W = 96;

async function build(spec: TemplateSpec): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const page = doc.addPage([A4[0], A4[1]]);
  const font = loadFont();
  const docFont = new DocumentFont(font);
  const canvas = new Canvas(docFont);
  const form = doc.getForm();
  const [W, H] = A4;
  const center = (t: string, y: number, size: number, bold = false) => canvas.text(t, W / 2 - font.widthOf(t, size) / 2, y, { size, bold, color: BLACK });
  center(spec.title, H - 70, 20, true);
  center(`（${spec.issuer}制）`, H - 92, 10.5);
  let y = H - 110;
  for (const row of spec.rows) {
    const h = row.height ?? 26;
    const cellW = WIDTH / row.cells.length;
    row.cells.forEach((c, i) => {
      const x = LEFT + i * cellW;
      canvas.strokeRect(x, y - h, LABEL_W, h, 0.6, BLACK);
      canvas.strokeRect(x + LABEL_W, y - h, cellW - LABEL_W, h, 0.6, BLACK);
      const size = font.widthOf(c.label, 10.5) > LABEL_W - 8 ? 9 : 10.5;
      canvas.text(c.label, x + (LABEL_W - font.widthOf(c.label, size)) / 2, y - h / 2 - size * 0.38, { size, color: BLACK });
      const tf = form.createTextField(c.field);
      if (c.multiline) tf.enableMultiline();
      tf.addToPage(page, { x: x + LABEL_W + 1, y: y - h + 1, width: cellW - LABEL_W - 2, height: h - 2, borderWidth: 0 });
    });
    y -= h;
  }
  y -= 18;
  canvas.text('申请人保证：本表所填内容真实、准确、完整，如有不实，愿承担相应法律责任。', LEFT, y, { size: 10.5, color: BLACK });
  y -= 28;
  canvas.text('申请人（盖章）：', W - LEFT - 230, y - 30, { size: 12, color: BLACK });
  addSignatureField(doc, page, spec.signatureField, [W - LEFT - 120, y - 100, W - LEFT, y + 20]);
  spec.notes.forEach((n, i) => canvas.text(n, LEFT, 70 - i * 14, { size: 8.5, color: GREY }));
  stampCanvas(doc, page, canvas, embedDocumentFont(doc, docFont));
  doc.setTitle(`${spec.title}（样表）`);
  doc.setAuthor(spec.issuer);
  doc.setCreator('rules/templates (scripts/make-templates.ts)');
  doc.setProducer('pdf-lib');
  const epoch = new Date('2026-12-01T00:00:00Z');
  doc.setCreationDate(epoch);
  doc.setModificationDate(epoch);
  return doc.save({ useObjectStreams: false });
}

/** An unsigned signature field (pdf-lib has no API for one): the widget marks where the applicant's seal goes. */
function addSignatureField(doc: PDFDocument, page: PDFPage, name: string, rect: [number, number, number, number]): void {
  const ctx = doc.context;
  const widget = ctx.register(
    ctx.obj({ Type: 'Annot', Subtype: 'Widget', FT: 'Sig', T: PDFHexString.fromText(name), Rect: rect, F: 4, P: page.ref }),
  );
  page.node.addAnnot(widget);
  const acro = doc.catalog.getOrCreateAcroForm();
  acro.addField(widget);
  acro.dict.set(PDFName.of('SigFlags'), PDFNumber.of(0));
}

const TEMPLATES: TemplateSpec[] = [
  {
    file: 'commercial-housing-presale.pdf',
    title: '商品房预售许可申请表',
    issuer: '沈阳市房产局',
    signatureField: '申请人签章',
    rows: [
      { cells: [{ label: '申请编号', field: '申请编号' }, { label: '填报日期', field: '填报日期' }] },
      { cells: [{ label: '开发企业名称', field: '开发企业名称' }] },
      { cells: [{ label: '统一社会信用代码', field: '统一社会信用代码' }, { label: '联系电话', field: '联系电话' }] },
      { cells: [{ label: '项目名称', field: '项目名称' }, { label: '项目代码', field: '项目代码' }] },
      { cells: [{ label: '项目坐落', field: '项目坐落' }] },
      { cells: [{ label: '土地不动产权证号', field: '土地不动产权证号' }, { label: '土地用途', field: '土地用途' }] },
      { cells: [{ label: '建设工程规划许可证号', field: '规划许可证号' }, { label: '建筑工程施工许可证号', field: '施工许可证号' }] },
      { cells: [{ label: '工程总投资（万元）', field: '工程总投资' }, { label: '已投入资金（万元）', field: '已投入资金' }] },
      { cells: [{ label: '预售楼栋', field: '预售楼栋' }, { label: '预售套数', field: '预售套数' }] },
      { cells: [{ label: '预售建筑面积（㎡）', field: '预售建筑面积' }, { label: '竣工交付日期', field: '竣工交付日期' }] },
      { cells: [{ label: '预售资金监管银行', field: '监管银行' }] },
      { cells: [{ label: '申请人声明与承诺', field: '声明与承诺', multiline: true }], height: 96 },
    ],
    notes: ['填表说明：1. 本表依据《城市商品房预售管理办法》制定；2. 带有数据来源的栏目由系统依共享数据填写（免填）；', '3. 本表经开发企业电子印章签章后具有与纸质盖章表同等效力。'],
  },
  {
    file: 'public-parking-filing.pdf',
    title: '经营性公共停车场备案表',
    issuer: '沈阳市城乡建设局',
    signatureField: 'applicantSeal',
    rows: [
      { cells: [{ label: '申请编号', field: 'applicationNumber' }, { label: '填报日期', field: 'submittedOn' }] },
      { cells: [{ label: '经营者名称', field: 'operatorName' }] },
      { cells: [{ label: '统一社会信用代码', field: 'uscc' }, { label: '法定代表人', field: 'legalRepresentative' }] },
      { cells: [{ label: '联系电话', field: 'contactPhone' }, { label: '停车场形式', field: 'lotForm' }] },
      { cells: [{ label: '停车场名称', field: 'lotName' }] },
      { cells: [{ label: '停车场地址', field: 'lotAddress' }] },
      { cells: [{ label: '所在区县', field: 'lotRegion' }, { label: '不动产权证号', field: 'realEstateCertNo' }] },
      { cells: [{ label: '泊位总数', field: 'totalSpaces' }, { label: '小型车泊位', field: 'smallSpaces' }] },
      { cells: [{ label: '大中型车泊位', field: 'largeSpaces' }, { label: '无障碍泊位', field: 'accessibleSpaces' }] },
      { cells: [{ label: '充电泊位', field: 'chargingSpaces' }, { label: '机械式泊位', field: 'mechanicalSpaces' }] },
      { cells: [{ label: '特种设备使用登记', field: 'specialEquipment', multiline: true }], height: 44 },
      { cells: [{ label: '申请人声明与承诺', field: 'statements', multiline: true }], height: 96 },
    ],
    notes: ['填表说明：泊位数以规划核实记录为准；无规划核实记录的，按实际设置填写。'],
  },
];

const dir = path.join(import.meta.dirname, '..', 'rules', 'templates');
for (const t of TEMPLATES) {
  const bytes = await build(t);
  writeFileSync(path.join(dir, t.file), bytes);
  console.log(`${t.file}: ${bytes.length} bytes`);
}
