/**
 * Topic scoping from component metadata (daprd `pkg/runtime/pubsub` scopes and
 * `IsOperationAllowed`): publishingScopes / subscriptionScopes ("app1=t1,t2;app2="),
 * allowedTopics and protectedTopics ("t1,t2").
 */
import { findMetadata } from './metadata-values';

function topicList(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return [...new Set(value.replaceAll(' ', '').split(','))];
}

/** Topics listed for `appId` in a scope; an app listed with nothing after `=` gets [""] (no topic). */
function scopedTopics(value: string | undefined, appId: string): string[] {
  if (value === undefined || value === '') return [];
  const topics = new Set<string>();
  for (const entry of value.replaceAll(' ', '').split(';')) {
    const parts = entry.split('=');
    if (parts.length < 2 || parts[0] !== appId) continue;
    for (const topic of (parts[1] ?? '').split(',')) topics.add(topic);
  }
  return [...topics];
}

export class TopicScopes {
  private readonly allowed: string[];
  private readonly protectedTopics: string[];
  private readonly publishing: string[];
  private readonly subscribing: string[];

  constructor(componentMetadata: Record<string, string>, appId: string) {
    this.allowed = topicList(findMetadata(componentMetadata, 'allowedTopics'));
    this.protectedTopics = topicList(findMetadata(componentMetadata, 'protectedTopics'));
    this.publishing = scopedTopics(findMetadata(componentMetadata, 'publishingScopes'), appId);
    this.subscribing = scopedTopics(findMetadata(componentMetadata, 'subscriptionScopes'), appId);
  }

  canPublish(topic: string): boolean {
    return this.isAllowed(topic, this.publishing);
  }

  canSubscribe(topic: string): boolean {
    return this.isAllowed(topic, this.subscribing);
  }

  private isAllowed(topic: string, scoped: string[]): boolean {
    if (this.allowed.length > 0 && !this.allowed.includes(topic) && scoped.length === 0) return false;
    if (this.protectedTopics.includes(topic) && !scoped.includes(topic)) return false;
    return scoped.length === 0 || scoped.includes(topic);
  }
}
