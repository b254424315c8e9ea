// 科普文章 (#/articles, #/articles/new, #/articles/<id>): the list in any status, and the
// editor with a live Markdown preview, publish now or at a set time, archive, delete.
import { api } from './api.js';
import { marked } from '../vendor/marked.esm.js';
import {
  h, clear, act, showInfo, table, pager, field, badge, label, LABELS, fmtTime,
  confirmDialog, dialog, fromLocalInput, toLocalInput,
} from './ui.js';

export async function render(view, [id], ctx) {
  if (id) return editor(view, id === 'new' ? null : id, ctx);
  return list(view, ctx);
}

async function list(view, ctx) {
  const status = h('select', { id: 'article-status' },
    h('option', { value: '' }, '全部状态'),
    Object.entries(LABELS.articleStatus).map(([v, t]) => h('option', { value: v }, t)));
  const box = h('div', { id: 'article-list' });
  let page = 1;
  async function load() {
    const paged = await api.get('/admin/articles', { status: status.value, page, page_size: 20 }, { signal: ctx.signal });
    clear(box, table([
      { title: '标题', render: (a) => h('a', { href: '#/articles/' + a.id }, a.title) },
      { title: '状态', render: (a) => badge('articleStatus', a.status) },
      { title: '分类', render: (a) => a.category },
      { title: '类型', render: (a) => label('kind', a.kind) },
      { title: '人群', render: (a) => label('audience', a.audience) },
      { title: '发布时间', render: (a) => (a.published_at ? fmtTime(a.published_at) : '—') },
      { title: '阅读 / 点赞 / 收藏', render: (a) => `${a.view_count} / ${a.like_count} / ${a.favorite_count}` },
    ], paged.items, { empty: '没有符合条件的文章。' }), pager(paged, (p) => { page = p; load(); }));
  }
  status.addEventListener('change', () => { page = 1; act(null, load); });
  clear(view, h('div', { class: 'card' },
    h('div', { class: 'toolbar' }, h('h1', {}, '科普文章'), h('span', { class: 'spacer' }), status,
      h('a', { class: 'button primary', href: '#/articles/new', id: 'new-article' }, '写新文章')),
    box));
  await load();
}

const PREVIEW_STYLE = `<style>body{font-family:"PingFang SC","Microsoft YaHei",sans-serif;font-size:15px;line-height:1.7;
color:#1f2933;margin:12px 16px}img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}
blockquote{color:#555;border-left:3px solid #ccc;margin:0;padding-left:12px}</style>`;

async function editor(view, id, ctx) {
  const a = id ? await api.get(`/admin/articles/${id}`, {}, { signal: ctx.signal }) : null;
  const input = (name, value, attrs = {}) => h('input', { name, id: 'article-' + name, value: value ?? '', ...attrs });
  const select = (name, set, value) => h('select', { name, id: 'article-' + name },
    Object.entries(LABELS[set]).map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
  const form = h('form', { id: 'article-form' });
  const body = h('textarea', { name: 'body', id: 'article-body', placeholder: '正文（Markdown）' });
  body.value = a?.body || '';
  // The preview runs in a sandboxed frame: no script in an article can run in the console.
  const preview = h('iframe', { sandbox: '', title: '预览', id: 'article-preview' });
  const renderPreview = () => { preview.srcdoc = PREVIEW_STYLE + marked.parse(body.value || ''); };
  body.addEventListener('input', renderPreview);
  renderPreview();

  form.append(
    h('div', { class: 'form-grid' },
      field('标题', input('title', a?.title, { required: true, maxlength: 100 })),
      field('分类', input('category', a?.category, { required: true })),
      field('作者', input('author', a?.author ?? '心嚟在线编辑部', { required: true })),
      field('类型', select('kind', 'kind', a?.kind || 'article')),
      field('面向人群', select('audience', 'audience', a?.audience || 'general')),
      field('标签（用逗号分隔）', input('tags', (a?.tags || []).join('，'))),
      field('封面图片地址', input('cover_image_url', a?.cover_image_url)),
      field('视频地址（视频类必填）', input('video_url', a?.video_url))),
    field('摘要', h('textarea', { name: 'summary', id: 'article-summary', rows: 2 }, a?.summary || '')),
    h('div', { class: 'editor' }, field('正文（Markdown）', body),
      field('预览（发布后以服务器渲染为准，脚本与不安全链接会被去掉）', preview)));

  const values = () => {
    const f = form.elements;
    const opt = (v) => v.trim() || null;
    return {
      title: f.title.value.trim(), summary: f.summary.value.trim(), body: body.value,
      kind: f.kind.value, category: f.category.value.trim(), audience: f.audience.value,
      author: f.author.value.trim(),
      tags: f.tags.value.split(/[,，、\s]+/).map((t) => t.trim()).filter(Boolean),
      cover_image_url: opt(f.cover_image_url.value), video_url: opt(f.video_url.value),
    };
  };
  const save = async () => {
    const saved = id ? await api.put(`/admin/articles/${id}`, values()) : await api.post('/admin/articles', values());
    return saved;
  };
  const button = (text, cls, fn, elId) => {
    const b = h('button', { type: 'button', class: cls, id: elId }, text);
    b.addEventListener('click', () => act(b, fn));
    return b;
  };
  const after = (saved, text) => {
    showInfo(text);
    if (!id) location.hash = '#/articles/' + saved.id;
    else return editor(view, id, ctx);
  };

  const status = a ? a.status : 'draft';
  const scheduled = a?.status === 'published' && a.published_at && new Date(a.published_at) > new Date();
  const actions = h('div', { class: 'actions' },
    button('保存', 'primary', async () => after(await save(), '已保存'), 'article-save'),
    status !== 'published' || scheduled
      ? button('保存并立即发布', '', async () => {
        const saved = await save();
        await api.post(`/admin/articles/${saved.id}/publish`, {});
        return after(saved, '已发布，读者现在可以看到');
      }, 'article-publish') : null,
    button('定时发布…', '', async () => {
      const at = await dialog('定时发布', (f) => f.append(
        field('发布时间（北京时间）', h('input', { type: 'datetime-local', name: 'at', required: true, value: toLocalInput(a?.published_at) }))),
      async (f) => fromLocalInput(f.elements.at.value));
      if (!at) return undefined;
      const saved = await save();
      await api.post(`/admin/articles/${saved.id}/publish`, { published_at: at });
      return after(saved, `将于 ${fmtTime(at)} 发布`);
    }, 'article-schedule'),
    id && status === 'published' ? button('归档', '', async () => {
      if (!(await confirmDialog('归档后读者将看不到这篇文章。确定归档吗？', '归档'))) return undefined;
      await api.post(`/admin/articles/${id}/archive`, {});
      return after(a, '已归档');
    }, 'article-archive') : null,
    id ? button('删除', 'danger', async () => {
      if (!(await confirmDialog('删除后文章及其点赞、收藏都会移除，且无法恢复。确定删除吗？', '删除'))) return undefined;
      await api.del(`/admin/articles/${id}`);
      showInfo('已删除');
      location.hash = '#/articles';
      return undefined;
    }, 'article-delete') : null);

  clear(view, h('div', { class: 'card' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/articles' }, '← 全部文章'),
      h('h1', {}, a ? a.title : '写新文章'), a ? badge('articleStatus', a.status) : null,
      scheduled ? h('span', { class: 'badge warn' }, '定时：' + fmtTime(a.published_at)) : null,
      a ? h('span', { class: 'muted small' }, `最后修改 ${fmtTime(a.updated_at)}`) : null),
    form, actions));
}
